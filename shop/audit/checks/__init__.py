"""The automatic checks of the criteria from live data, and their dated snapshots (`flask audit run`)."""
