"""The supervisor window (大厅负责人): figures, charts, warnings, 整改 follow-ups, bursts, exports."""
