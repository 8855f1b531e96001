"""The controller side of the floor's devices (CONTRACT.md section 4).

    displays.py  pure: what each counter display and the hall show, from the floor state
    keypads.py   pure: keypad presses -> controller commands, duplicate presses dropped
    health.py    pure: one coordinator per device owning its availability, debounced changes
    outputs.py   where display states go: MQTT (retained, QoS 1) or in-process fakes
    router.py    asyncio: committed events -> displays, presses and statuses -> commands/events
    press_relay.py  sites partitioned over processes: presses to the site's writer through Redis
    broker.py    the embedded MQTT broker of `--mqtt embedded` (amqtt)
    sim.py       emulated MQTT devices of `--devices sim`
    service.py   the lifespan's one entry point: `device_service(settings, controller, store)`

Modules are imported by their full path; this package imports nothing at import time
so the pure parts stay cheap for the simulator and tests.
"""

__all__: list[str] = []
