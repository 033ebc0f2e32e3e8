"""The app's own CSS (passed to ``launch``): result tables, error boxes, the activity log, the phone layout."""

CSS = """
.prediction-results { max-height: 640px; overflow-y: auto; }
.prediction-results table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.prediction-results th { white-space: nowrap; text-align: left; padding: 6px 8px;
  border-bottom: 1px solid var(--border-color-primary); position: sticky; top: 0;
  background: var(--background-fill-primary); }
.prediction-results td { padding: 6px 8px; vertical-align: top; border-bottom: 1px solid var(--border-color-primary); }
.prediction-results table, .prediction-results td, .prediction-results th { border-left: none !important;
  border-right: none !important; border-top: none !important; }
.prediction-results td.label { width: 1%; min-width: 7em; max-width: 18em; }
.prediction-results .pick { white-space: nowrap; }
.prediction-results td.agree, .prediction-results td.row { white-space: nowrap; }
.prediction-results td.text { width: 100%; overflow-wrap: anywhere; }
.prediction-results tr.differ { background: rgba(220, 38, 38, 0.10); }
.prediction-results tr.differ td.agree { color: #b91c1c; font-weight: 600; }
.prediction-results .topk { color: var(--body-text-color-subdued); font-size: 0.85em; }
.prediction-results summary { cursor: pointer; }
.action-error { border-left: 4px solid #b91c1c; background: rgba(220, 38, 38, 0.08); padding: 6px 10px;
  border-radius: 4px; }
.action-error:empty, .action-error:has(.prose:empty) { display: none; }
.activity { font-family: var(--font-mono); font-size: 0.85em; line-height: 1.5; white-space: pre-wrap;
  overflow-wrap: anywhere; border: 1px solid var(--border-color-primary); border-radius: 4px; padding: 6px 10px;
  min-height: 3em; }
#train-summary { border-left: 4px solid #2563eb; padding-left: 10px; }
@media (max-width: 640px) {
  .prediction-results thead { display: none; }
  .prediction-results { max-height: none; }
  .prediction-results tr { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) auto;
    border-bottom: 1px solid var(--border-color-primary); }
  .prediction-results .pick { white-space: normal; }
  .prediction-results td.label { overflow-wrap: anywhere; }
  .prediction-results td { border-bottom: none; }
  .prediction-results td.row { display: none; }
  .prediction-results td.label, .prediction-results td.agree { min-width: 0; }
  .prediction-results td.label::before, .prediction-results td.agree::before { content: attr(data-label);
    display: block; font-size: 0.75em; color: var(--body-text-color-subdued); }
  .prediction-results td.text { grid-column: 1 / -1; padding-top: 0; }
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .publish-options { flex-direction: column !important; }
}
"""
