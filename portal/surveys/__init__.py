"""Trust and satisfaction surveys: campaigns, rounds, anonymous answers and the figures drawn from them."""
