//! The meeting_mediafile slide and the title information of mediafiles.
//!
//! A meeting_mediafile links a meeting to a mediafile. Both the slide and the title
//! information describe the linked mediafile, not the meeting_mediafile.

use super::super::{Fetch, Projection, SlideError};
use crate::models::collections::{Mediafile, MeetingMediafile};
use crate::models::{Collection, Fqid, Id};
use serde_json::{json, Value as Json};

/// Returns the fqid of the mediafile that the meeting_mediafile `fqid` links to. Fails
/// when the meeting_mediafile does not exist or has no `mediafile_id`.
async fn mediafile_of(fetch: &mut Fetch<'_>, fqid: Fqid) -> Result<Fqid, SlideError> {
    let meeting_mediafile = fetch
        .object(fqid, &[MeetingMediafile::MEDIAFILE_ID.id()])
        .await?;
    let mediafile_id = meeting_mediafile
        .get(MeetingMediafile::MEDIAFILE_ID)?
        .ok_or_else(|| SlideError::invalid(format!("{fqid} has no mediafile_id")))?;
    Ok(Fqid::new(Collection::Mediafile, mediafile_id))
}

/// Renders a mediafile: its id and mimetype. The mediafile has to exist.
pub async fn meeting_mediafile(
    fetch: &mut Fetch<'_>,
    p7on: &Projection,
) -> Result<Json, SlideError> {
    let mediafile = mediafile_of(fetch, p7on.content_object_id).await?;
    let mediafile = fetch.object(mediafile, &[Mediafile::MIMETYPE.id()]).await?;
    Ok(json!({
        "id": mediafile.id(),
        "mimetype": mediafile.get_or_default(Mediafile::MIMETYPE)?,
    }))
}

/// Fails for every meeting_mediafile whose link can be followed, as the OpenSlides
/// autoupdate service of May 2025 does. Its title information reads the key
/// `mediafile/<id>/mediafile_id`, which is not a field of models.yml. So every slide that
/// lists a mediafile (agenda, lists of speakers, chyron) fails, and clients show the
/// error object for those slides.
// NOTE: the intended output is `{"collection": "mediafile", "content_object_id":
// "mediafile/<id>", "title": <the mediafile's title>}`; `intended_title_information`
// renders it, ready for when the reference behaviour is fixed.
pub async fn title_information(
    fetch: &mut Fetch<'_>,
    fqid: Fqid,
    _item_number: &str,
    _meeting_id: Id,
) -> Result<Json, SlideError> {
    let mediafile = mediafile_of(fetch, fqid).await?;
    Err(SlideError::invalid(format!(
        "the title of {mediafile} is read from {mediafile}/mediafile_id, which is not a field of models.yml"
    )))
}

/// Describes the mediafile of a meeting_mediafile as OpenSlides means to: the linked
/// mediafile's title. Unused until the reference behaviour is fixed.
#[cfg(test)]
async fn intended_title_information(fetch: &mut Fetch<'_>, fqid: Fqid) -> Result<Json, SlideError> {
    let mediafile = mediafile_of(fetch, fqid).await?;
    let mediafile = fetch.object(mediafile, &[Mediafile::TITLE.id()]).await?;
    Ok(json!({
        "collection": "mediafile",
        "content_object_id": mediafile.fqid().to_string(),
        "title": mediafile.get_or_default(Mediafile::TITLE)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::super::SlideError;
    use super::super::testing::{datastore, fetch, render, slide_projection};
    use crate::models::Fqid;
    use serde_json::{json, Value as Json};

    async fn title_information(data: &Json) -> Result<Json, SlideError> {
        let store = datastore(data);
        let fqid = Fqid::parse("meeting_mediafile/1").unwrap();
        super::intended_title_information(&mut fetch(&store), fqid).await
    }

    #[tokio::test]
    async fn shows_id_and_mimetype() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 1},
            "mediafile/1": {"mimetype": "application/pdf"},
        });
        assert_eq!(
            render(&data, &slide_projection("meeting_mediafile/1"))
                .await
                .unwrap(),
            json!({"id": 1, "mimetype": "application/pdf"})
        );
    }

    #[tokio::test]
    async fn id_is_the_mediafile_id() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 5},
            "mediafile/5": {"mimetype": "image/png"},
        });
        assert_eq!(
            render(&data, &slide_projection("meeting_mediafile/1"))
                .await
                .unwrap(),
            json!({"id": 5, "mimetype": "image/png"})
        );
    }

    #[tokio::test]
    async fn mediafile_without_mimetype() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 5},
            "mediafile/5": {},
        });
        assert_eq!(
            render(&data, &slide_projection("meeting_mediafile/1"))
                .await
                .unwrap(),
            json!({"id": 5, "mimetype": ""})
        );
    }

    #[tokio::test]
    async fn missing_objects_fail() {
        let projection = slide_projection("meeting_mediafile/1");

        let data = json!({"mediafile/5": {"mimetype": "image/png"}});
        let error = render(&data, &projection).await.unwrap_err();
        assert!(
            matches!(error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "meeting_mediafile/1"),
            "{error}"
        );

        let data = json!({"meeting_mediafile/1": {"mediafile_id": 5}});
        let error = render(&data, &projection).await.unwrap_err();
        assert!(
            matches!(error, SlideError::DoesNotExist(fqid) if fqid.to_string() == "mediafile/5"),
            "{error}"
        );

        let data = json!({"meeting_mediafile/1": {}, "mediafile/5": {}});
        let error = render(&data, &projection).await.unwrap_err();
        assert!(error.to_string().contains("has no mediafile_id"), "{error}");
    }

    #[tokio::test]
    async fn title_information_shows_the_mediafile() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 5},
            "mediafile/5": {"title": "minutes.pdf", "mimetype": "application/pdf"},
        });
        assert_eq!(
            title_information(&data).await.unwrap(),
            json!({
                "collection": "mediafile",
                "content_object_id": "mediafile/5",
                "title": "minutes.pdf",
            })
        );
    }

    #[tokio::test]
    async fn title_information_without_title() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 5},
            "mediafile/5": {},
        });
        assert_eq!(
            title_information(&data).await.unwrap(),
            json!({
                "collection": "mediafile",
                "content_object_id": "mediafile/5",
                "title": "",
            })
        );
    }

    #[tokio::test]
    async fn title_information_fails_like_the_reference() {
        let data = json!({
            "meeting_mediafile/1": {"mediafile_id": 5},
            "mediafile/5": {"title": "minutes.pdf"},
        });
        let store = datastore(&data);
        let fqid = Fqid::parse("meeting_mediafile/1").unwrap();
        let error = super::title_information(&mut fetch(&store), fqid, "", 1)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("mediafile/5/mediafile_id"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn title_information_of_missing_objects_fails() {
        let data = json!({"mediafile/5": {"title": "minutes.pdf"}});
        assert!(title_information(&data).await.is_err());

        let data = json!({"meeting_mediafile/1": {"mediafile_id": 5}});
        assert!(title_information(&data).await.is_err());

        let data = json!({"meeting_mediafile/1": {}});
        assert!(title_information(&data).await.is_err());
    }
}
