// A webhook receiver for Alpes Partners, in Node.js (no dependencies).
// Verify X-Alpes-Firma (any of your secrets: during a rotation both are sent), deduplicate by
// Idempotency-Key, and track secuencia gaps (see docs/API.md, "Webhooks").
// Run: SECRETOS=whsec_new,whsec_old node receptor.js 8080
"use strict";
const crypto = require("crypto");
const http = require("http");

const TOLERANCIA_SEGUNDOS = 300;

function firmaValida(cabecera, cuerpo, secretos) {
  const pares = String(cabecera || "").split(",").map((p) => p.trim().split("="));
  const t = (pares.find(([k]) => k === "t") || [])[1] || "";
  const firmas = pares.filter(([k]) => k === "sha256").map(([, v]) => v || "");
  if (!/^\d+$/.test(t) || Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCIA_SEGUNDOS) {
    return false; // missing or stale
  }
  const firmado = Buffer.concat([Buffer.from(t + "."), cuerpo]);
  return secretos.some((secreto) => {
    const esperada = Buffer.from(crypto.createHmac("sha256", secreto).update(firmado).digest("hex"));
    return firmas.some((f) => {
      const dada = Buffer.from(f);
      return dada.length === esperada.length && crypto.timingSafeEqual(dada, esperada);
    });
  });
}

class Receptor {
  constructor(secretos) {
    this.secretos = secretos;
    this.procesadas = new Set(); // use your database: record the key with the work it triggers
    this.maxima = 0;
    this.faltan = new Set(); // gaps: ask for a replay of the range if they do not arrive
  }

  recibir(cabeceras, cuerpo) {
    if (!firmaValida(cabeceras["x-alpes-firma"], cuerpo, this.secretos)) return 401;
    const clave = cabeceras["idempotency-key"] || "";
    if (this.procesadas.has(clave)) return 200; // a retry or a replay
    const evento = JSON.parse(cuerpo.toString("utf8"));
    console.log(evento.secuencia, evento.tipo, evento.datos.id);
    this.procesadas.add(clave);
    this.faltan.delete(evento.secuencia);
    for (let n = this.maxima + 1; n < evento.secuencia; n++) this.faltan.add(n);
    this.maxima = Math.max(this.maxima, evento.secuencia);
    return 200;
  }
}

module.exports = { firmaValida, Receptor };

if (require.main === module) {
  const receptor = new Receptor(String(process.env.SECRETOS || "").split(","));
  http
    .createServer((req, res) => {
      const partes = [];
      req.on("data", (p) => partes.push(p));
      req.on("end", () => {
        res.statusCode = receptor.recibir(req.headers, Buffer.concat(partes));
        res.end();
      });
    })
    .listen(Number(process.argv[2] || 8080));
}
