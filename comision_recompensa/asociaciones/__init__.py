"""Agreements between a marca and a socio (AsociacionEstrategica) and their payment rules."""
