"""Where deployments made before the layout by stage find the flow: ``flows.pipeline:publish_notices``.

The flow lives in ``flows.runs.flow``; this name is kept so that existing deployments, whose
entrypoint names this module, still start.
"""

from flows.runs.flow import FLOW_NAME, publish_notices

__all__ = ["FLOW_NAME", "publish_notices"]
