"""Model adapters: Shocks in, Result out (accounting, smart, gsim, ge)."""
