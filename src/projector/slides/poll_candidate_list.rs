//! The title information of poll candidate lists.

use super::super::{Fetch, SlideError};
use crate::models::collections::PollCandidateList;
use crate::models::{Fqid, Id};
use serde_json::{json, Value as Json};

/// Describes a poll candidate list, an option of an election with list votes, by the
/// number of its candidates.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    _item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let list = fetch
        .object(fqid, &[PollCandidateList::POLL_CANDIDATE_IDS.id()])
        .await?;
    let candidates = list.get_or_default(PollCandidateList::POLL_CANDIDATE_IDS)?;
    Ok(json!({
        "collection": "poll_candidate_list",
        "content_object_id": fqid.to_string(),
        "entries_amount": candidates.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{datastore, fetch};
    use super::super::SlideError;
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    async fn title_information(data: &Json) -> Result<Json, SlideError> {
        let store = datastore(data);
        let fqid = Fqid::parse("poll_candidate_list/1").unwrap();
        super::title_information(&mut fetch(&store), fqid, "1", 222).await
    }

    fn expected(entries_amount: usize) -> Json {
        json!({
            "collection": "poll_candidate_list",
            "content_object_id": "poll_candidate_list/1",
            "entries_amount": entries_amount,
        })
    }

    #[tokio::test]
    async fn counts_no_candidates() {
        let data = json!({"poll_candidate_list/1": {"poll_candidate_ids": []}});
        assert_eq!(title_information(&data).await.unwrap(), expected(0));
    }

    #[tokio::test]
    async fn counts_one_candidate() {
        let data = json!({"poll_candidate_list/1": {"poll_candidate_ids": [1]}});
        assert_eq!(title_information(&data).await.unwrap(), expected(1));
    }

    #[tokio::test]
    async fn counts_two_candidates() {
        let data = json!({"poll_candidate_list/1": {"poll_candidate_ids": [1, 3]}});
        assert_eq!(title_information(&data).await.unwrap(), expected(2));
    }

    #[tokio::test]
    async fn unset_candidates_count_zero() {
        let data = json!({"poll_candidate_list/1": {"meeting_id": 1}});
        assert_eq!(title_information(&data).await.unwrap(), expected(0));
    }

    #[tokio::test]
    async fn missing_list_fails() {
        let data = json!({"poll_candidate_list/2": {"poll_candidate_ids": [1]}});
        let err = title_information(&data).await.unwrap_err();
        assert!(matches!(err, SlideError::DoesNotExist(_)), "{err}");
    }

    #[tokio::test]
    async fn dispatch_finds_title_information() {
        let store = datastore(&json!({"poll_candidate_list/1": {"poll_candidate_ids": [4]}}));
        let fqid = Fqid::parse("poll_candidate_list/1").unwrap();
        let info = super::super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap();
        assert_eq!(info, Some(expected(1)));
    }
}
