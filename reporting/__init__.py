"""What a run leaves behind: its run directory, log and W&B run, score files, plots, metrics and results row."""
