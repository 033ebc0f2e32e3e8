"""The Hugging Face Hub: publishing a run (publish.py: the model, its card, card_multi_label.py for label
sets, setfit_export.py for a baseline in SetFit format), the demo Space (demo_space.py), Hub classifiers in
Predict (hub_models.py), and whose token each request carries (hub_auth.py: the caller's own, or none).
"""
