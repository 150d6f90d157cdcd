"""The CRM assistant's domain: customers, contracts, instalments, BPKB, branches, requests, cases,
escalations, staff; its rules (`policy`), parsing, formatting and privacy patterns; the database
and settings. `crm.services` is the way to the database. Sub-packages on top of the domain:
`crm.runtime` (how it runs), `crm.nlu` (trainer and CI tools), `crm.console` (the staff web app);
`python -m crm` is the command line. tests/test_boundaries.py keeps the arrows pointing down."""
