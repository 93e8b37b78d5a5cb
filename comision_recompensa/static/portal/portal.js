/* Alpes Partners · partner portal: progressive enhancement only. Every page works without this
   file; with it, the copy buttons appear next to the read-only fields (Clipboard API) and those
   fields select their whole text on focus. Loaded from this origin (CSP: no inline script). */
(function () {
  "use strict";

  function avisar(aviso, texto) {
    if (!aviso) { return; }
    aviso.textContent = "";
    window.setTimeout(function () { aviso.textContent = texto; }, 50);
  }

  function prepararCopia(boton) {
    var campo = document.getElementById(boton.getAttribute("data-copiar"));
    var aviso = document.getElementById(boton.getAttribute("data-aviso"));
    if (!campo || !navigator.clipboard || !window.isSecureContext) { return; }
    boton.hidden = false;
    boton.addEventListener("click", function () {
      navigator.clipboard.writeText(campo.value).then(
        function () { avisar(aviso, boton.getAttribute("data-ok")); },
        function () { campo.focus(); campo.select(); avisar(aviso, boton.getAttribute("data-error")); }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copiar]"), prepararCopia);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-seleccionar]"), function (campo) {
      campo.addEventListener("focus", function () { campo.select(); });
    });
  });
})();
