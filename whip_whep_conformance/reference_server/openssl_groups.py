"""Accept FFmpeg 8's default DTLS certificate (ECDSA on P-224): import this before anything imports
`cryptography` (aiortc does).

In DTLS 1.2 the client accepts a server's ECDSA key only on a curve it offered in supported_groups
(RFC 8422 §5.1); FFmpeg's WHIP muxer offers a=setup:passive, so the server's aiortc is the DTLS client,
and OpenSSL's default list has no P-224: it aborts with illegal_parameter after the server's
Certificate and ServerKeyExchange (measured; the ECDHE group itself is X25519, so only the
certificate's curve matters). aiortc sets no groups, and the `cryptography` 46 bindings have no
SSL_CTX_set1_groups_list: the OpenSSL config file (dtls_groups.cnf, named by OPENSSL_CONF) is the way
to add P-224, and that OpenSSL reads it once, when `cryptography` loads. OpenSSL 4 (cryptography ≥ 47)
refuses P-224 in TLS altogether, hence the cryptography 46 pin (OpenSSL 3.5, an LTS release).

The variable is set only while `cryptography` loads and then put back, so the system OpenSSL behind
Python's `ssl` (imported first, below) and every child process keep their own configuration.
"""

from __future__ import annotations

import os
import ssl  # noqa: F401  the system OpenSSL initialises with its own configuration first
import sys
from pathlib import Path

CONFIG = Path(__file__).with_name("dtls_groups.cnf")
_BINDINGS = "cryptography.hazmat.bindings._rust"


def _load_cryptography_with_p224() -> bool:
    """True if cryptography's OpenSSL was loaded here, with CONFIG; False if it was loaded before."""
    if _BINDINGS in sys.modules:
        return False
    previous = os.environ.get("OPENSSL_CONF")
    os.environ["OPENSSL_CONF"] = str(CONFIG)
    try:
        import cryptography.hazmat.bindings._rust  # noqa: F401
        from OpenSSL import SSL  # noqa: F401
    finally:
        if previous is None:
            del os.environ["OPENSSL_CONF"]
        else:
            os.environ["OPENSSL_CONF"] = previous
    return True


LOADED_WITH_P224 = _load_cryptography_with_p224()
