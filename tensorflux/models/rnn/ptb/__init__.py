"""The PTB language-model tutorial's reader."""
