/* category.h - guess what kind of attack an anomalous flow looks like.
 *
 * The model says *that* a flow is unusual; these rules say *what* it looks
 * like, from the features that describe it (docs/scoring.md lists them in
 * order). The first rule that matches wins; "unknown" when none does. The
 * rules run only on flows the model already found anomalous or suspicious,
 * so they can be simple: they name, they do not detect.
 */
#pragma once

/* feat: one flow's features in registry order (feat_count values).
 * fan_in: distinct sources whose anomalous flows reached this flow's
 * responder within the incident window (a victim-side view: it is what
 * reveals a flood from spoofed sources).
 * top_feature: registry index of the input that contributes most to the
 * flow's reconstruction error, or -1: when it describes the responder's side
 * (who has been contacting it), the flow is unusual because of what its
 * responder is receiving, so the story is about the responder. */
const char *score_category(const double *feat, unsigned fan_in, int top_feature);
