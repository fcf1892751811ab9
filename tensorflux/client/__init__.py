"""Client-side tools (tensorflow.client): the step-stats timeline."""
