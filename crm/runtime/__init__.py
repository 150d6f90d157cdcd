"""How the product runs: the supervisor that `make run` starts, the Rasa launcher and its
patches, the action server, the escalation outbox, the nginx writer and the demo website.
Built on the domain (`crm`, `crm.services`); the domain never imports from here."""
