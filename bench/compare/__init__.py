"""``make bench-compare``: the gateway, PostGraphile 5 and a hand-written floor, side by side."""
