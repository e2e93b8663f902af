"""Build the objects one configuration needs: per-portal HubSpot parts, Simpli clients."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests

from hubsync.clock import Clock
from hubsync.config import Config, PortalConfig, ServiceConfig
from hubsync.handlers.context import HandlerContext
from hubsync.handlers.dispatch import Dispatcher
from hubsync.hubspot.api import HubSpotAPI
from hubsync.hubspot.budget import RateBudget
from hubsync.hubspot.directory import Directory
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.ledger.store import Ledger
from hubsync.simpli.http import SimpliHTTP
from hubsync.simpli.services import Reply, Triage
from hubsync.streams.tickets import TicketStream
from hubsync.writeback.outbox import Writeback


@dataclass
class PortalRuntime:
    """Everything that works on one portal."""

    config: PortalConfig
    http: HubSpotHTTP
    api: HubSpotAPI
    tickets: TicketStream
    handlers: HandlerContext
    writeback: Writeback


@dataclass
class Runtime:
    config: Config
    ledger: Ledger
    clock: Clock
    session: requests.Session
    portals: list[PortalRuntime]
    dispatcher: Dispatcher
    stop: threading.Event

    def close(self) -> None:
        self.session.close()
        self.ledger.close()


def _simpli(name: str, svc: ServiceConfig, session: requests.Session, clock: Clock) -> SimpliHTTP:
    return SimpliHTTP(service=name, session=session, base_url=svc.base_url,
                      api_key=svc.api_key.get_secret_value() if svc.api_key else None,
                      clock=clock, read_timeout_s=svc.timeout_s)


def build(config: Config, ledger: Ledger, clock: Clock, *,
          session: requests.Session | None = None,
          stop: threading.Event | None = None) -> Runtime:
    session = session or requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=8,
                                            pool_maxsize=config.simpli.concurrency + 4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    stop = stop or threading.Event()
    triage = Triage(_simpli("triage", config.simpli.triage, session, clock))
    reply = Reply(_simpli("reply", config.simpli.reply, session, clock),
                  style=config.simpli.reply.style, language=config.simpli.reply.language)
    portals = []
    for portal in config.portals:
        budget = RateBudget(search_per_s=portal.rate.search_per_s,
                            burst_max=portal.rate.burst_max,
                            burst_window_s=portal.rate.burst_window_s, clock=clock)
        http = HubSpotHTTP(session=session, base_url=portal.base_url, token=portal.read_token(),
                           budget=budget, clock=clock)
        api = HubSpotAPI(http)
        portals.append(PortalRuntime(
            config=portal, http=http, api=api,
            tickets=TicketStream(portal, api, ledger, clock, config.polling),
            handlers=HandlerContext(portal, Directory(api, clock), ledger, triage, reply, clock),
            writeback=Writeback(portal.id, api, ledger, clock, config.writeback),
        ))
    dispatcher = Dispatcher(config.processing, concurrency=config.simpli.concurrency, stop=stop)
    return Runtime(config, ledger, clock, session, portals, dispatcher, stop)
