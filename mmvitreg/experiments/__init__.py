"""Experiments run through the tools as a user would: the main job's and the
ablation's subprocess runner (``tool_runs``), the ablation's rows and
schedule (``ablation_rows``), its runner (``ablation``), its statistics over
seeds (``stats``) and its report (``ablation_report``: table, JSON, plots)."""
