"""The hello-world limit of our stack (Quart + Hypercorn), served the same way as the app."""
from quart import Quart

app = Quart(__name__)


@app.route("/")
async def hello():
    return "Hello, World!"
