"""Analytics: divergence by window, reviewer stats and fatigue, policy simulation."""
