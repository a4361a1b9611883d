//! Objects on disk.
//!
//! ```text
//! <data-dir>/tmp/<random>                     bodies being received (never read by GET)
//! <data-dir>/objects/<bucket>/<sha256(key)>   committed objects
//! <data-dir>/uploads/<upload-id>/upload.json  multipart uploads in progress
//! <data-dir>/uploads/<upload-id>/<part>       their verified parts
//! ```
//!
//! An object file is the body followed by a JSON footer (the key, size, ETag, content type,
//! metadata), the footer's length and a magic number. Files are named by a hash of the key,
//! never by the key: S3 keys may contain `..`, `//`, NUL-free anything, and must not become
//! paths. A body is received into `tmp/` and renamed into place only once every check passed,
//! so readers see the old object or the new one, never a partial or unverified one.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::fs::{self, File};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use presign::chunked::ChecksumValue;

use crate::checksum::{BodyDigests, parse_algorithm};
use crate::error::S3Error;

const MAGIC: &[u8; 8] = b"PSGWOBJ1";
/// Footers are small; a larger one means a damaged file.
const MAX_FOOTER: u64 = 64 * 1024;
/// Read size when streaming an object out.
const READ_CHUNK: usize = 64 * 1024;

/// What is kept about an object (or a part) besides its bytes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The key (empty for parts).
    pub key: String,
    /// Body size in bytes.
    pub size: u64,
    /// The ETag, without quotes: hex MD5, or `<hex>-<parts>` for multipart objects.
    pub etag: String,
    /// `Content-Type` given at upload.
    pub content_type: Option<String>,
    /// Unix seconds of the commit.
    pub last_modified: i64,
    /// `x-amz-meta-*` headers, names lowercase without the prefix.
    pub metadata: Vec<(String, String)>,
    /// A checksum verified at upload: algorithm name and base64 value.
    pub checksum: Option<(String, String)>,
    /// The binary MD5 of a part (to compute the multipart ETag).
    #[serde(default)]
    pub md5: Option<String>,
}

impl ObjectMeta {
    /// The verified checksum, if the upload carried one this gateway knows.
    pub fn checksum(&self) -> Option<ChecksumValue> {
        let (alg, value) = self.checksum.as_ref()?;
        ChecksumValue::from_base64(parse_algorithm(alg).ok()?, value)
    }
}

/// A multipart upload in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadMeta {
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// `Content-Type` given at creation.
    pub content_type: Option<String>,
    /// `x-amz-meta-*` given at creation.
    pub metadata: Vec<(String, String)>,
    /// Unix seconds of the creation.
    pub initiated: i64,
}

/// The data directory.
pub struct Store {
    root: PathBuf,
}

/// An object opened for reading: its metadata, and the file positioned nowhere in particular.
pub struct StoredObject {
    /// The footer.
    pub meta: ObjectMeta,
    file: File,
}

impl Store {
    /// Creates the directory layout under `root`.
    pub async fn open(root: &Path) -> std::io::Result<Self> {
        for dir in ["tmp", "objects", "uploads"] {
            fs::create_dir_all(root.join(dir)).await?;
        }
        // Bodies a previous run was receiving when it stopped were never verified: they
        // can only be deleted.
        let mut leftovers = fs::read_dir(root.join("tmp")).await?;
        while let Some(entry) = leftovers.next_entry().await? {
            let _ = fs::remove_file(entry.path()).await;
        }
        Ok(Store {
            root: root.to_owned(),
        })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of a bucket.
    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        // Bucket names are validated by `presign::s3::Bucket` before they get here: lowercase
        // letters, digits, `.` and `-`, no `..`, so they are safe as one path component.
        self.root.join("objects").join(bucket)
    }

    /// The file of an object: named by the SHA-256 of its key.
    fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.bucket_dir(bucket)
            .join(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// The directory of a multipart upload.
    fn upload_dir(&self, upload_id: &str) -> Result<PathBuf, S3Error> {
        // Upload ids are ours (32 hex digits); anything else is not one, and must not reach
        // the file system as a path.
        if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(S3Error::no_such_upload(upload_id));
        }
        Ok(self.root.join("uploads").join(upload_id))
    }

    /// A new temporary file for a body of at most `limit` bytes, checked against `digests`.
    pub async fn temp(&self, digests: BodyDigests, limit: u64) -> Result<TempObject, S3Error> {
        let path = self
            .root
            .join("tmp")
            .join(format!("{}.part", crate::random_hex(16)));
        let file = File::create(&path).await.map_err(S3Error::internal)?;
        Ok(TempObject {
            path,
            file: BufWriter::with_capacity(256 * 1024, file),
            written: 0,
            limit,
            digests: Some(digests),
            committed: false,
        })
    }

    /// Creates a bucket's directory (buckets otherwise exist implicitly).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        fs::create_dir_all(self.bucket_dir(bucket))
            .await
            .map_err(S3Error::internal)
    }

    /// Removes an empty bucket; `BucketNotEmpty` otherwise.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        match fs::remove_dir(self.bucket_dir(bucket)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(S3Error::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
            )),
        }
    }

    /// The bucket names, sorted.
    pub async fn buckets(&self) -> Result<Vec<String>, S3Error> {
        let mut names = Vec::new();
        let mut dir = fs::read_dir(self.root.join("objects"))
            .await
            .map_err(S3Error::internal)?;
        while let Some(entry) = dir.next_entry().await.map_err(S3Error::internal)? {
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Commits a verified body as object `key` of `bucket` (replacing any previous one).
    pub async fn commit_object(
        &self,
        tmp: TempObject,
        bucket: &str,
        meta: ObjectMeta,
    ) -> Result<ObjectMeta, S3Error> {
        fs::create_dir_all(self.bucket_dir(bucket))
            .await
            .map_err(S3Error::internal)?;
        tmp.commit(&self.object_path(bucket, &meta.key), meta).await
    }

    /// Opens object `key`; `None` if there is none.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<StoredObject>, S3Error> {
        open_file(&self.object_path(bucket, key)).await
    }

    /// Deletes object `key` (absent is fine, as in S3).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        match fs::remove_file(self.object_path(bucket, key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(S3Error::internal(e)),
            _ => Ok(()),
        }
    }

    /// Every object of `bucket`, sorted by key.
    pub async fn list(&self, bucket: &str) -> Result<Vec<ObjectMeta>, S3Error> {
        let mut found = Vec::new();
        let mut dir = match fs::read_dir(self.bucket_dir(bucket)).await {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(S3Error::internal(e)),
        };
        while let Some(entry) = dir.next_entry().await.map_err(S3Error::internal)? {
            // An object deleted or replaced while we list is simply skipped.
            if let Ok(Some(object)) = open_file(&entry.path()).await {
                found.push(object.meta);
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// Starts a multipart upload; returns its id.
    pub async fn create_upload(&self, meta: &UploadMeta) -> Result<String, S3Error> {
        let id = crate::random_hex(16);
        let dir = self.upload_dir(&id)?;
        fs::create_dir_all(&dir).await.map_err(S3Error::internal)?;
        let json = serde_json::to_vec(meta).map_err(S3Error::internal)?;
        fs::write(dir.join("upload.json"), json)
            .await
            .map_err(S3Error::internal)?;
        Ok(id)
    }

    /// The multipart upload `upload_id` of `bucket`/`key`; `NoSuchUpload` otherwise.
    pub async fn upload(
        &self,
        upload_id: &str,
        bucket: &str,
        key: &str,
    ) -> Result<UploadMeta, S3Error> {
        let dir = self.upload_dir(upload_id)?;
        let meta: UploadMeta = fs::read(dir.join("upload.json"))
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| S3Error::no_such_upload(upload_id))?;
        if meta.bucket != bucket || meta.key != key {
            return Err(S3Error::no_such_upload(upload_id));
        }
        Ok(meta)
    }

    /// Commits a verified part (replacing an earlier upload of the same number).
    pub async fn commit_part(
        &self,
        tmp: TempObject,
        upload_id: &str,
        number: u32,
    ) -> Result<ObjectMeta, S3Error> {
        let path = self.upload_dir(upload_id)?.join(format!("{number:05}"));
        tmp.commit(&path, ObjectMeta::default()).await
    }

    /// The parts of an upload, by number.
    pub async fn parts(&self, upload_id: &str) -> Result<Vec<(u32, StoredObject)>, S3Error> {
        let dir = self.upload_dir(upload_id)?;
        let mut parts = Vec::new();
        let mut entries = fs::read_dir(&dir)
            .await
            .map_err(|_| S3Error::no_such_upload(upload_id))?;
        while let Some(entry) = entries.next_entry().await.map_err(S3Error::internal)? {
            let Some(number) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(part) = open_file(&entry.path()).await? {
                parts.push((number, part));
            }
        }
        parts.sort_by_key(|(n, _)| *n);
        Ok(parts)
    }

    /// Removes an upload and its parts.
    pub async fn remove_upload(&self, upload_id: &str) -> Result<(), S3Error> {
        let dir = self.upload_dir(upload_id)?;
        match fs::remove_dir_all(dir).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(S3Error::no_such_upload(upload_id))
            }
            Err(e) => Err(S3Error::internal(e)),
        }
    }
}

/// Opens an object or part file and reads its footer; `None` if the file does not exist.
async fn open_file(path: &Path) -> Result<Option<StoredObject>, S3Error> {
    let mut file = match File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(S3Error::internal(e)),
    };
    let damaged = || S3Error::internal(format!("{} is not an object file", path.display()));
    let len = file.metadata().await.map_err(S3Error::internal)?.len();
    let tail_at = len.checked_sub(16).ok_or_else(damaged)?;
    file.seek(SeekFrom::Start(tail_at))
        .await
        .map_err(S3Error::internal)?;
    let mut tail = [0u8; 16];
    file.read_exact(&mut tail)
        .await
        .map_err(S3Error::internal)?;
    let (footer_len, magic) = tail.split_at(8);
    if magic != MAGIC {
        return Err(damaged());
    }
    let footer_len = u64::from_le_bytes(footer_len.try_into().map_err(|_| damaged())?);
    if footer_len > MAX_FOOTER {
        return Err(damaged());
    }
    let footer_at = tail_at.checked_sub(footer_len).ok_or_else(damaged)?;
    file.seek(SeekFrom::Start(footer_at))
        .await
        .map_err(S3Error::internal)?;
    let mut footer = vec![0u8; usize::try_from(footer_len).map_err(|_| damaged())?];
    file.read_exact(&mut footer)
        .await
        .map_err(S3Error::internal)?;
    let meta: ObjectMeta = serde_json::from_slice(&footer).map_err(|_| damaged())?;
    if meta.size != footer_at {
        return Err(damaged());
    }
    Ok(Some(StoredObject { meta, file }))
}

impl StoredObject {
    /// A body streaming bytes `start..start + len` of the object.
    pub async fn body(mut self, start: u64, len: u64) -> Result<Body, S3Error> {
        self.file
            .seek(SeekFrom::Start(start))
            .await
            .map_err(S3Error::internal)?;
        let reader = self.file.take(len);
        let stream = futures_util::stream::try_unfold(reader, |mut reader| async move {
            let mut buf = vec![0u8; READ_CHUNK];
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            buf.truncate(n);
            Ok(Some((Bytes::from(buf), reader)))
        });
        Ok(Body::from_stream(stream))
    }

    /// Appends the whole body to `out` (assembling a multipart object).
    pub async fn copy_into(mut self, out: &mut TempObject) -> Result<(), S3Error> {
        self.file
            .seek(SeekFrom::Start(0))
            .await
            .map_err(S3Error::internal)?;
        let mut reader = self.file.take(self.meta.size);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let n = reader.read(&mut buf).await.map_err(S3Error::internal)?;
            let Some(chunk) = buf.get(..n).filter(|c| !c.is_empty()) else {
                return Ok(());
            };
            out.write(chunk).await?;
        }
    }
}

/// A body being received into `tmp/`. Removed on drop unless committed.
pub struct TempObject {
    path: PathBuf,
    file: BufWriter<File>,
    written: u64,
    limit: u64,
    digests: Option<BodyDigests>,
    committed: bool,
}

impl TempObject {
    /// Appends bytes; `EntityTooLarge` past the limit (before writing them).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), S3Error> {
        let total = self.written.saturating_add(bytes.len() as u64);
        if total > self.limit {
            return Err(S3Error::too_large(self.limit, total));
        }
        if let Some(d) = &mut self.digests {
            d.update(bytes);
        }
        self.file
            .write_all(bytes)
            .await
            .map_err(S3Error::internal)?;
        self.written = total;
        Ok(())
    }

    /// The digests the body is checked against at commit (none for an assembled object).
    pub fn digests(&mut self) -> Option<&mut BodyDigests> {
        self.digests.as_mut()
    }

    /// Checks the digests, writes the footer, syncs and renames the file to `dest`.
    /// `meta.size` and `meta.etag` (unless already set) and `last_modified` are filled in.
    async fn commit(mut self, dest: &Path, mut meta: ObjectMeta) -> Result<ObjectMeta, S3Error> {
        let (md5, checksum) = match self.digests.take() {
            Some(d) => d.finish()?,
            None => ([0; 16], None),
        };
        meta.size = self.written;
        if meta.etag.is_empty() {
            meta.etag = crate::checksum::etag_hex(&md5);
            meta.md5 = Some(hex::encode(md5));
        }
        meta.checksum = checksum.map(|c| (c.algorithm().name().to_owned(), c.to_base64()));
        meta.last_modified = time::OffsetDateTime::now_utc().unix_timestamp();
        let footer = serde_json::to_vec(&meta).map_err(S3Error::internal)?;
        self.file
            .write_all(&footer)
            .await
            .map_err(S3Error::internal)?;
        self.file
            .write_all(&(footer.len() as u64).to_le_bytes())
            .await
            .map_err(S3Error::internal)?;
        self.file
            .write_all(MAGIC)
            .await
            .map_err(S3Error::internal)?;
        self.file.flush().await.map_err(S3Error::internal)?;
        // Durable before visible: a crash after the rename must not leave a short file.
        self.file
            .get_ref()
            .sync_data()
            .await
            .map_err(S3Error::internal)?;
        fs::rename(&self.path, dest)
            .await
            .map_err(S3Error::internal)?;
        self.committed = true;
        Ok(meta)
    }

    /// A temp object whose ETag is set by the caller (multipart assembly): no digests.
    pub fn without_digests(mut self) -> Self {
        self.digests = None;
        self
    }

    /// Commits as object `meta.key` of `bucket`, keeping the given ETag.
    pub async fn commit_assembled(
        self,
        store: &Store,
        bucket: &str,
        meta: ObjectMeta,
    ) -> Result<ObjectMeta, S3Error> {
        store.commit_object(self, bucket, meta).await
    }
}

impl Drop for TempObject {
    /// Deletes the file of an upload that was not committed.
    fn drop(&mut self) {
        if !self.committed {
            // A failed or abandoned upload leaves nothing behind.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[tokio::test]
    async fn commit_then_read_back_and_nothing_left_in_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let digests = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        let mut tmp = store.temp(digests, 100).await.unwrap();
        tmp.write(b"hello ").await.unwrap();
        tmp.write(b"world").await.unwrap();
        let meta = ObjectMeta {
            key: "../a//b".into(),
            ..ObjectMeta::default()
        };
        let meta = store.commit_object(tmp, "bucket", meta).await.unwrap();
        assert_eq!(meta.size, 11);
        assert_eq!(meta.etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");

        let object = store
            .open_object("bucket", "../a//b")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(object.meta.key, "../a//b");
        let body = object.body(6, 5).await.unwrap();
        let bytes = axum::body::to_bytes(body, 100).await.unwrap();
        assert_eq!(&bytes[..], b"world");
        assert_eq!(store.list("bucket").await.unwrap().len(), 1);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn over_the_limit_is_entity_too_large_and_dropped_temp_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let digests = BodyDigests::from_headers(&HeaderMap::new()).unwrap();
        let mut tmp = store.temp(digests, 4).await.unwrap();
        assert_eq!(
            tmp.write(b"12345").await.unwrap_err().code(),
            "EntityTooLarge"
        );
        drop(tmp);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        assert!(store.upload_dir("../../etc").is_err());
    }
}
