"""The CRM domain: customers, contracts, instalments, BPKB, branches, requests, cases, escalations."""
