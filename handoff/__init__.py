"""Human handoff: tickets, queues and what agents do with them."""
