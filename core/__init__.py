"""What every part shares: settings, store connections, logging, errors. Imports nothing of ours."""
