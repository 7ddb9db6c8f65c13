/* pdr provider console: sends the upload form's file straight to the API's streamed upload, with a progress bar.
   Without this script the form posts as it is; the page needs no script to work. */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest) {
    return;
  }
  var input = form.querySelector('input[type="file"]');
  var box = form.querySelector(".upload-progress");
  var bar = document.getElementById("upload-progress");
  var percent = document.getElementById("upload-percent");
  var failure = form.querySelector(".upload-error");
  var button = form.querySelector('button[type="submit"]');

  function show(loaded, total) {
    var share = total > 0 ? Math.floor((loaded * 100) / total) : 0;
    bar.max = 100;
    bar.value = share;
    percent.textContent = share + "%";
  }

  function fail(detail) {
    box.hidden = true;
    button.disabled = false;
    failure.textContent = form.getAttribute("data-failed") + " " + detail;
    failure.hidden = false;
  }

  function problem(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      return body.detail || body.title || String(xhr.status);
    } catch (error) {
      return String(xhr.status);
    }
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) {
      return; /* the server says what is missing */
    }
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    var url = form.getAttribute("data-upload-url") + "?name=" + encodeURIComponent(file.name) + "&size=" + file.size;
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (progress) {
      if (progress.lengthComputable) {
        show(progress.loaded, progress.total);
      }
    };
    xhr.onload = function () {
      if (xhr.status === 201) {
        show(1, 1);
        window.location.assign(form.getAttribute("data-done-url"));
      } else {
        fail(problem(xhr));
      }
    };
    xhr.onerror = function () {
      fail(form.getAttribute("data-lost"));
    };
    failure.hidden = true;
    button.disabled = true;
    box.hidden = false;
    show(0, 1);
    xhr.send(file);
  });
})();
