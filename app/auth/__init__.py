"""Who is calling: the admin token, a dashboard session, or a store's plugin token; and the
throttle that slows down whoever guesses tokens."""
