"""FastAPI dependencies of the payload routes: the upload slots of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.files.limits import UploadSlots


async def get_upload_slots(request: Request) -> UploadSlots:
    """The app's upload slots (made by create_app: one set per process)."""
    slots: UploadSlots = request.app.state.upload_slots
    return slots


Uploads = Annotated[UploadSlots, Depends(get_upload_slots)]
