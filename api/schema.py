"""The GraphQL schema, composed from the domain packages.

Each domain contributes a Query and a Mutation mixin; a new domain (matching, exchange)
appends its mixins here. There is deliberately no root ``node`` field: the types implement
relay's Node for global IDs and connections, and every object is reached through a scoped
field instead.
"""

import graphene

from api.exchange.campaigns import CampaignQuery
from api.exchange.delivery import DeliveryQuery
from api.exchange.disputes import DisputeQuery
from api.exchange.ledger import LedgerMutation, LedgerQuery
from api.exchange.mutations import ExchangeMutation
from api.exchange.queries import ExchangeQuery
from api.matching.mutations import MatchingMutation
from api.matching.queries import MatchingQuery
from api.partners.mutations import PartnersMutation
from api.partners.queries import PartnersQuery

QUERIES: list[type[graphene.ObjectType]] = [
    PartnersQuery,
    MatchingQuery,
    ExchangeQuery,
    CampaignQuery,
    DeliveryQuery,
    DisputeQuery,
    LedgerQuery,
]
MUTATIONS: list[type[graphene.ObjectType]] = [PartnersMutation, MatchingMutation, ExchangeMutation, LedgerMutation]


class Query(*reversed(QUERIES), graphene.ObjectType):
    pass


class Mutation(*reversed(MUTATIONS), graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
