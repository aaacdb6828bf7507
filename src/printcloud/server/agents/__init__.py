"""The agents' side of the server: their WebSocket (``/ws``) and the dispatcher that
gets jobs to the computers connected to this instance."""
