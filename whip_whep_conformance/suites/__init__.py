"""The WHIP/WHEP conformance cases, one module per spec section (h2spec style)."""
