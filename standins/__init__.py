"""Local stand-ins for the services the hub talks to (Paddle, m3ter), for the demo, benchmarks
and tests. Product code never imports this package; its dependencies are dev-only."""
