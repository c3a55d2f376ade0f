"""The app's screens: the participant queue, the interview, help and small modals."""
