"""Local orchestration of the suite: embedded Postgres, the sandbox, the demo run."""
