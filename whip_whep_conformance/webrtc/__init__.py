"""aiortc adaptations shared by suite and server: peers on chosen addresses, ICE restart, VP9, consent checks, the test pattern and stamps."""
