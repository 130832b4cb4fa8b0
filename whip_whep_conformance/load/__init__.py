"""`whip-whep-conformance load`: how many viewers a server holds, at what loss, time to first frame and latency.

One stamped publisher per live input; many cheap viewers (ICE, DTLS and SRTP once, then RTP counted from its
clear header, never decoded) and a sample of decoding viewers for glass-to-glass latency, spread over
generator processes and machines with execnet. Only cli.py imports this package.
"""
