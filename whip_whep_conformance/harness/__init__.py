"""The harness: the suite's client side (signalling client, aiortc peers as publisher and player, the case fixture and target fixtures, the embedded server launcher, grading)."""
