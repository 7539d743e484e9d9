"""The conversation pipeline: receive a message, run the turn, store and send replies, typing, media, delivery."""
