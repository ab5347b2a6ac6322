"""Behaviour-signal tagging: 12 signals from text (jieba + taxonomy) and from event kinds."""

from pipeline.tagging.reloader import TaggerReloader
from pipeline.tagging.tagger import Tagger
from pipeline.tagging.taxonomy import TaxonomyError

__all__ = ["Tagger", "TaggerReloader", "TaxonomyError"]
