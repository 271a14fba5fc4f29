"""Statistics: aggregation, dark-figure estimators, disclosure control, exports."""
