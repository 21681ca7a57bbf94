//! Everything a reviewer sees about a request.

use super::*;

/// Everything a reviewer sees about a request.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApprovalDetail {
    pub approval: ApprovalRequest,
    pub agent: Option<crate::model::Agent>,
    pub instance: Option<crate::model::Instance>,
    pub operation: Option<crate::catalog::Operation>,
    /// The record the request was made from: a call's intercept (risk and its inputs,
    /// the deciding rule, the policy version, the agent's `session_context`), or a grant
    /// request: the `fields` of that record.
    #[schema(value_type = Option<Object>)]
    pub intercept: Option<AuditEvent>,
    pub votes: Vec<ApprovalVote>,
    /// The target's current state against the call, while pending and when shown.
    pub state: Option<super::super::StateDiff>,
}

impl super::super::ReadOps<'_> {
    /// Everything about a request; the target's answer only for admins and auditors.
    pub async fn approval_detail(&self, id: ApprovalId) -> Result<ApprovalDetail, CoreError> {
        let mut d = self.engine.approval_detail_in(self.who.org_id, id).await?;
        if !self.who.roles.reads_answers() {
            d.approval.withhold_answer();
        }
        Ok(d)
    }
}

impl Engine {
    /// Everything a reviewer sees about a request of `org`, for the reviewer API and for
    /// notifiers that show it elsewhere (Slack, Teams, webhooks).
    pub(crate) async fn approval_detail_in(
        &self,
        org: OrgId,
        id: ApprovalId,
    ) -> Result<ApprovalDetail, CoreError> {
        let e = self;
        let approval = e.expire_if_due(e.approval_of(org, id).await?).await?;
        let intercept = e
            .store
            .audit_record(org, approval.intercept_id)
            .await?
            .map(|r| r.event())
            .transpose()?;
        let state = if approval.status == Pending && approval.requirements.show_diff {
            e.state_diff(&approval).await
        } else {
            None
        };
        Ok(ApprovalDetail {
            state,
            agent: e.store.agent(org, approval.agent_id).await?,
            instance: e.instance_of(&approval).await?,
            operation: e
                .catalog
                .get(&approval.connector)
                .and_then(|c| c.operation(&approval.operation))
                .cloned(),
            intercept,
            votes: e.store.approval_votes(org, id).await?,
            approval,
        })
    }
}
