"""Helpers shared by the tests; test modules and conftest files import them from here.

- ``accounts``: accounts, users, API keys and computers written straight to the database
- ``agent``: the agent in this process, configured for a test, running until stopped
- ``asgi_client``: an httpx client of an app, in process
- ``browser``: headless Chromium (Debian's) driven by Playwright
- ``dashboard``: logging in to the dashboard and reading its forms' CSRF tokens
- ``database``: emptying the test database between tests
- ``documents``: small documents to print (PDF, ZPL) and their base64
- ``jobs``: print job requests, submitting them and waiting for their outcome
- ``live_server``: PrintCloud (or any ASGI app) under uvicorn on a real socket, counting
  the WebSocket sessions it serves
- ``pdfs``: PDFs whose pages can be told apart once rendered
- ``printrig``: the machines' print rig (a private CUPS, an IPP printer, a raw sink),
  and ``PrivateRig``, a test's own, for what would disturb the others (stopping CUPS)
- ``progress``: a document's progress (news, CUPS jobs taken) as a backend reports it
- ``protocol_peer``: a scripted server end of the agent protocol, for what a real
  server does not (yet) do on cue: cancel_job, close codes
- ``resolver``: host names of a test's own, resolved to the addresses it chooses
- ``server_process``: ``printcloud`` commands in processes of their own
- ``services``: where PostgreSQL and Redis are, and what to do when they are away
- ``systemd``: ``systemd-analyze verify`` of a unit file
- ``waiting``: waiting for what another task or process does
- ``webhooks``: webhook receivers that record what they are sent
- ``win32_fake``: a faithful fake of the pywin32 calls the Windows backend makes
- ``ws_agent``: the agent's side of the WebSocket protocol, by hand
"""
