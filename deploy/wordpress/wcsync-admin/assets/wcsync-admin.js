/* wcsync Admin: the Orders notice, Sync Now with progress, the Sync Order box and the settings
 * page's connection check. It talks only to this site's wcsync-admin/v1 REST routes, with the
 * wp_rest nonce; the wcsync token stays on the server. Values are inserted as text only. */
( function () {
	'use strict';

	var config = window.wcsyncAdmin;
	if ( ! config ) {
		return;
	}
	var t = config.i18n;
	var FINISHED = [ 'succeeded', 'partial', 'failed' ];

	function format( template ) {
		var args = Array.prototype.slice.call( arguments, 1 );
		var next = 0;
		return template.replace( /%(?:(\d+)\$)?d|%(?:(\d+)\$)?s/g, function ( match, a, b ) {
			var index = a || b ? parseInt( a || b, 10 ) - 1 : next++;
			return String( args[ index ] );
		} );
	}

	function request( method, path ) {
		return window
			.fetch( config.root + path, {
				method: method,
				credentials: 'same-origin',
				headers: { 'X-WP-Nonce': config.nonce, Accept: 'application/json' },
			} )
			.then( function ( response ) {
				return response.json().then(
					function ( data ) {
						if ( ! response.ok ) {
							throw new Error( ( data && data.message ) || t.error );
						}
						return data;
					},
					function () {
						throw new Error( t.error );
					}
				);
			} );
	}

	function el( tag, text, className ) {
		var node = document.createElement( tag );
		if ( text !== undefined && text !== null ) {
			node.textContent = String( text );
		}
		if ( className ) {
			node.className = className;
		}
		return node;
	}

	function sleep( ms ) {
		return new Promise( function ( resolve ) {
			window.setTimeout( resolve, ms );
		} );
	}

	/* --- Orders list: pending notice and Sync Now ------------------------------------- */

	function updateBubble( count ) {
		var bubbles = document.querySelectorAll( '.wcsync-admin-bubble' );
		Array.prototype.forEach.call( bubbles, function ( bubble ) {
			bubble.hidden = count < 1;
			bubble.className = 'awaiting-mod wcsync-admin-bubble count-' + count;
			var inner = bubble.querySelector( '.wcsync-admin-count' );
			if ( inner ) {
				inner.textContent = String( count );
			}
		} );
	}

	function showPending() {
		var target = document.getElementById( 'wcsync-admin-pending' );
		if ( ! target ) {
			return Promise.resolve();
		}
		return request( 'GET', 'pending' )
			.then( function ( data ) {
				var text;
				if ( data.pending === 0 ) {
					text = t.pendingNone;
				} else {
					text = format( data.pending === 1 ? t.pendingOne : t.pendingMany, data.pending );
				}
				if ( data.failed > 0 ) {
					text += ' ' + format( t.failed, data.failed );
				}
				target.textContent = text;
				updateBubble( data.pending );
			} )
			.catch( function ( error ) {
				target.textContent = error.message;
			} );
	}

	function watchRun( runId, bar, text ) {
		return request( 'GET', 'runs/' + runId ).then( function ( run ) {
			var done = run.progress.done;
			var total = run.progress.total;
			if ( total > 0 ) {
				bar.max = total;
				bar.value = Math.min( done, total );
			}
			if ( FINISHED.indexOf( run.status ) !== -1 ) {
				bar.max = Math.max( total, 1 );
				bar.value = bar.max;
				text.textContent = format(
					t.finished,
					run.counts.created,
					run.counts.updated,
					run.counts.skipped,
					run.counts.failed
				);
				return run;
			}
			text.textContent = total > 0 ? format( t.progress, done, total ) : t.looking;
			return sleep( 1000 ).then( function () {
				return watchRun( runId, bar, text );
			} );
		} );
	}

	function setUpSyncNow() {
		var button = document.getElementById( 'wcsync-admin-sync-now' );
		if ( ! button ) {
			return;
		}
		var box = document.querySelector( '#wcsync-admin-notice .wcsync-admin-progress' );
		var bar = document.getElementById( 'wcsync-admin-progress-bar' );
		var text = document.getElementById( 'wcsync-admin-progress-text' );
		button.addEventListener( 'click', function () {
			button.disabled = true;
			box.hidden = false;
			bar.removeAttribute( 'value' );
			text.textContent = t.queued;
			request( 'POST', 'sync' )
				.then( function ( accepted ) {
					return watchRun( accepted.run_id, bar, text );
				} )
				.then( showPending )
				.catch( function ( error ) {
					text.textContent = error.message;
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
		showPending();
		window.setInterval( function () {
			if ( ! document.hidden && ! button.disabled ) {
				showPending();
			}
		}, 15000 );
	}

	/* --- order edit screen: the Sync Order box -------------------------------------------- */

	function renderLinks( box, view ) {
		box.textContent = '';
		if ( ! view.links || ! view.links.length ) {
			box.appendChild( el( 'p', t.noLinks ) );
			return;
		}
		var table = el( 'table', null, 'widefat striped wcsync-admin-links' );
		var head = el( 'thead' );
		var row = el( 'tr' );
		[ t.target, t.replica, t.state ].forEach( function ( label ) {
			var th = el( 'th', label );
			th.scope = 'col';
			row.appendChild( th );
		} );
		head.appendChild( row );
		table.appendChild( head );
		var body = el( 'tbody' );
		view.links.forEach( function ( link ) {
			var tr = el( 'tr' );
			tr.appendChild( el( 'td', link.target.store ) );
			tr.appendChild( el( 'td', link.target.order_id ? '#' + link.target.order_id : t.notYet ) );
			var state = el( 'td' );
			state.appendChild( el( 'span', link.state.replace( '_', ' ' ), 'wcsync-admin-state wcsync-admin-state-' + link.state ) );
			tr.appendChild( state );
			body.appendChild( tr );
			if ( link.last_error ) {
				var errorRow = el( 'tr', null, 'wcsync-admin-error' );
				var cell = el( 'td' );
				cell.colSpan = 3;
				cell.appendChild( el( 'strong', t.lastError + ': ' ) );
				cell.appendChild( document.createTextNode( link.last_error ) );
				errorRow.appendChild( cell );
				body.appendChild( errorRow );
			}
		} );
		table.appendChild( body );
		box.appendChild( table );
	}

	function setUpSyncOrder() {
		// The box's own div, not WordPress' postbox around it (which carries the box's id).
		var container = document.querySelector( '.wcsync-admin-order[data-order-id]' );
		if ( ! container ) {
			return;
		}
		var orderId = parseInt( container.getAttribute( 'data-order-id' ), 10 );
		var box = document.getElementById( 'wcsync-admin-links' );
		var button = document.getElementById( 'wcsync-admin-sync-order' );
		var status = document.getElementById( 'wcsync-admin-order-status' );
		request( 'GET', 'orders/' + orderId )
			.then( function ( view ) {
				renderLinks( box, view );
			} )
			.catch( function ( error ) {
				box.textContent = error.message;
			} );
		button.addEventListener( 'click', function () {
			button.disabled = true;
			status.textContent = t.syncing;
			request( 'POST', 'orders/' + orderId + '/sync' )
				.then( function ( view ) {
					renderLinks( box, view );
					status.textContent = '';
				} )
				.catch( function ( error ) {
					status.textContent = error.message;
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
	}

	/* --- settings page: connection check ------------------------------------------------ */

	function setUpCheck() {
		var button = document.getElementById( 'wcsync-admin-check' );
		var result = document.getElementById( 'wcsync-admin-check-result' );
		if ( ! button || ! result ) {
			return;
		}
		button.addEventListener( 'click', function () {
			button.disabled = true;
			result.textContent = t.checking;
			request( 'GET', 'status' )
				.then( function ( status ) {
					result.textContent = t.connected + ' ' + status.store + ' (' + status.role + ').';
				} )
				.catch( function ( error ) {
					result.textContent = error.message;
				} )
				.then( function () {
					button.disabled = false;
				} );
		} );
	}

	function start() {
		setUpSyncNow();
		setUpSyncOrder();
		setUpCheck();
	}

	if ( document.readyState === 'loading' ) {
		document.addEventListener( 'DOMContentLoaded', start );
	} else {
		start();
	}
} )();
