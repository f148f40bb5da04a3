/* category.h - guess what kind of attack an anomalous flow looks like.
 *
 * The model says *that* a flow is unusual; these rules say *what* it looks
 * like, from the features that describe it (docs/scoring.md lists them in
 * order). The first rule that matches wins; "unknown" when none does. The
 * rules run only on flows the model already found anomalous, so they can be
 * simple: they name, they do not detect.
 */
#pragma once

/* feat: one flow's features in registry order (feat_count values).
 * resp_port: the responder's port (flow identity dst_port).
 * fan_in: distinct sources whose anomalous flows reached this flow's
 * responder within the incident window (a victim-side view the per-flow
 * features lack: it is what reveals a flood from spoofed sources). */
const char *score_category(const double *feat, unsigned resp_port, unsigned fan_in);
