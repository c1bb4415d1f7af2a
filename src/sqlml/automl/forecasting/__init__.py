"""FORECAST models: statsforecast's methods, chosen and combined by rolling-origin backtests
within MAX_RUNTIME (``train.train_forecast``); the package stores the forecast itself."""
