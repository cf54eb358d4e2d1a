"""What an operator watches: request ids and JSON logs, /readyz, and Prometheus metrics at /metrics.

- `logs.py`:      the request id (middleware, a log filter, Celery's task id in workers) and the JSON formatter;
- `middleware.py`: one middleware per request: its id, its latency in the histogram, an optional access line;
- `readiness.py`: the checks /readyz runs (database, broker, free disk) and the states they read;
- `metrics.py`:   the metrics, the scrape-time collector (queue depth, oldest waiting item, last sweep)
                  and the Celery signals that count task outcomes;
- `views.py`:     /readyz and /metrics (a token or an allow-list of addresses).
"""
