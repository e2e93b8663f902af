"""Build the objects one configuration needs: per-portal HubSpot parts, Simpli clients."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests

from hubsync.clock import Clock
from hubsync.config import Config, PortalConfig, ServiceConfig
from hubsync.handlers.context import HandlerContext, Simpli
from hubsync.handlers.dispatch import Dispatcher
from hubsync.hubspot.api import HubSpotAPI
from hubsync.hubspot.budget import RateBudget
from hubsync.hubspot.conversations import Conversations
from hubsync.hubspot.directory import Directory
from hubsync.hubspot.http import HubSpotHTTP
from hubsync.ledger.store import Ledger
from hubsync.simpli.http import SimpliHTTP
from hubsync.simpli.services import QA, Reply, Sentiment, Triage
from hubsync.streams.messages import MessageStream
from hubsync.streams.tickets import TicketStream
from hubsync.writeback.outbox import Writeback


@dataclass
class PortalRuntime:
    """Everything that works on one portal."""

    config: PortalConfig
    http: HubSpotHTTP
    api: HubSpotAPI
    tickets: TicketStream
    messages: MessageStream | None
    handlers: HandlerContext
    writeback: Writeback
    properties_ok: bool = False     # hubsync's custom properties verified to exist


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


def hubspot_http(portal: PortalConfig, session: requests.Session, clock: Clock) -> HubSpotHTTP:
    """The portal's HTTP access with its own rate budget."""
    budget = RateBudget(search_per_s=portal.rate.search_per_s, burst_max=portal.rate.burst_max,
                        burst_window_s=portal.rate.burst_window_s, clock=clock)
    return HubSpotHTTP(session=session, base_url=portal.base_url, token=portal.read_token(),
                       budget=budget, clock=clock)


def simpli_http(name: str, svc: ServiceConfig, session: requests.Session,
                clock: Clock) -> SimpliHTTP:
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
    sc = config.simpli
    simpli = Simpli(
        triage=Triage(simpli_http("triage", sc.triage, session, clock)),
        reply=Reply(simpli_http("reply", sc.reply, session, clock), style=sc.reply.style,
                    language=sc.reply.language),
        sentiment=Sentiment(simpli_http("sentiment", sc.sentiment, session, clock)),
        qa=QA(simpli_http("qa", sc.qa, session, clock), path=sc.qa.evaluate_path),
    )
    portals = []
    for portal in config.portals:
        http = hubspot_http(portal, session, clock)
        api = HubSpotAPI(http)
        conversations = Conversations(http)
        directory = Directory(api, clock, ttl_s=config.polling.pipelines_ttl_s)
        portals.append(PortalRuntime(
            config=portal, http=http, api=api,
            tickets=TicketStream(portal, api, ledger, clock, config.polling, directory),
            messages=(MessageStream(portal, conversations, ledger, clock, config.polling)
                      if config.polling.messages else None),
            handlers=HandlerContext(portal, directory, ledger, api, conversations, simpli,
                                    clock, sc.sentiment.escalation_threshold),
            writeback=Writeback(portal.id, api, ledger, clock, config.writeback),
        ))
    dispatcher = Dispatcher(config.processing, concurrency=sc.concurrency, rules=config.rules,
                            stop=stop)
    return Runtime(config, ledger, clock, session, portals, dispatcher, stop)
