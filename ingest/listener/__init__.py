"""The bus listener: OpenStack notifications (nova, neutron) -> targeted inventory updates.

handlers.py  parse an oslo.messaging message and plan what it asks of the inventory (pure)
debounce.py  one host rescan per burst of events; acknowledgements that wait for it (pure)
applier.py   apply a plan through the inventory's one write path (MongoDB, API reads)
consumer.py  the kombu consumer: durable queue, reconnection with backoff, ack after the write
run.py       a listener wired from a stored environment's configuration
"""
