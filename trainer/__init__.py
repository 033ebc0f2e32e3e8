"""ClassiTune's ML core: data intake, configuration, training, evaluation, prediction, publishing.

Nothing here imports gradio: the Space (``space/``) calls this package, never the reverse.
"""
