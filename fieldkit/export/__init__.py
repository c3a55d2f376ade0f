"""Documents fieldkit writes for people and programs outside it: the participant's copy of a
transcript (issue 5), and exports for qualitative-analysis software (issue 6)."""
