"""The domain core: pure rules and models. Imports no UI, audio, ASR or storage library."""
