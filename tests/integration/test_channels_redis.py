"""Django Channels' Redis layers (Debian's python3-channels-redis) against
Runnel: the core layer (Lua scripts over sorted sets and lists, blocking
pops, groups with expiry) and the pub/sub layer."""
import asyncio

import pytest

channels_redis = pytest.importorskip("channels_redis")
from channels_redis.core import RedisChannelLayer  # noqa: E402
from channels_redis.pubsub import RedisPubSubChannelLayer  # noqa: E402


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


async def core_round_trip(port):
    layer = RedisChannelLayer(hosts=[("127.0.0.1", port)], capacity=5, expiry=10)
    a = await layer.new_channel()
    b = await layer.new_channel()
    await layer.send(a, {"type": "hello", "n": 1})
    first = await asyncio.wait_for(layer.receive(a), 5)
    await layer.group_add("room", a)
    await layer.group_add("room", b)
    await layer.group_send("room", {"type": "news", "text": "hi"})
    got = [await asyncio.wait_for(layer.receive(c), 5) for c in (a, b)]
    await layer.group_discard("room", b)
    await layer.group_send("room", {"type": "news", "text": "only a"})
    only_a = await asyncio.wait_for(layer.receive(a), 5)
    # the per-channel capacity (5) refuses a sixth waiting message
    full = False
    for i in range(6):
        try:
            await layer.send(b, {"type": "fill", "i": i})
        except Exception as e:  # channels.exceptions.ChannelFull
            full = type(e).__name__ == "ChannelFull"
    await layer.flush()
    await layer.close_pools()
    return first, got, only_a, full


async def pubsub_round_trip(port):
    layer = RedisPubSubChannelLayer(hosts=[f"redis://127.0.0.1:{port}"])
    ch = await layer.new_channel()
    await layer.group_add("room", ch)
    await asyncio.sleep(0.2)
    await layer.send(ch, {"type": "direct"})
    direct = await asyncio.wait_for(layer.receive(ch), 5)
    await layer.group_send("room", {"type": "grouped"})
    grouped = await asyncio.wait_for(layer.receive(ch), 5)
    await layer.flush()
    return direct, grouped


def test_core_layer_send_receive_groups_and_capacity(server):
    first, got, only_a, full = run(core_round_trip(server.port))
    assert first == {"type": "hello", "n": 1}
    assert got == [{"type": "news", "text": "hi"}] * 2
    assert only_a == {"type": "news", "text": "only a"}
    assert full


def test_pubsub_layer_direct_and_group_messages(server):
    direct, grouped = run(pubsub_round_trip(server.port))
    assert direct == {"type": "direct"}
    assert grouped == {"type": "grouped"}
