"""Operations support: systemd notifications (``notify``) and health and metrics (``health``)."""
